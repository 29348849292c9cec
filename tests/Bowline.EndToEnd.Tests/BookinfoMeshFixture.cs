using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>One bookinfo mesh shared by the tests of a class (they run one after another and reset routing first).</summary>
public sealed class BookinfoMeshFixture : IAsyncLifetime
{
    internal MeshProcess Mesh { get; private set; } = null!;

    public async Task InitializeAsync() => Mesh = await MeshProcess.StartAsync(Repo.Sample("bookinfo"));

    public async Task DisposeAsync() => await Mesh.DisposeAsync();
}
