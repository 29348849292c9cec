using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bowline.Proxy.Transport;

/// <summary>
/// The pipes' memory: 4 KB blocks of pinned arrays, kept for reuse (Kestrel's own pool is internal to its socket
/// transport). Pinned so that a writev over several blocks takes their addresses without a GCHandle each.
/// </summary>
internal sealed class BlockPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    private readonly ConcurrentQueue<Block> _free = new();

    public static BlockPool Instance { get; } = new();

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"blocks are {BlockSize} bytes");
        }

        return _free.TryDequeue(out var block) ? block : new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed unsafe class Block(BlockPool pool) : MemoryManager<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public override Span<byte> GetSpan() => _array;

        public override Memory<byte> Memory => CreateMemory(BlockSize);

        public override MemoryHandle Pin(int elementIndex = 0) =>
            new(Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_array), elementIndex)));

        public override void Unpin()
        {
        }

        // The pipe disposes a block it no longer needs: back to the pool.
        protected override void Dispose(bool disposing) => pool._free.Enqueue(this);
    }
}
