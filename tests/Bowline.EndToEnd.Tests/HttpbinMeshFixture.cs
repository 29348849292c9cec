using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>One httpbin mesh (3 httpbin v1 pods, httpbin-v2, the gateway) shared by the tests of a class.</summary>
public sealed class HttpbinMeshFixture : IAsyncLifetime
{
    internal MeshProcess Mesh { get; private set; } = null!;

    public async Task InitializeAsync() => Mesh = await MeshProcess.StartAsync(Repo.Sample("httpbin"));

    public async Task DisposeAsync() => await Mesh.DisposeAsync();
}
