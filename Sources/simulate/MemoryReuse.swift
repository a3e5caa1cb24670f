#if canImport(Glibc)
import Glibc
#endif

/// Keeps freed memory in the process for the next simulation instead of handing it back
/// to the kernel. A sweep compiles and simulates point after point, each allocating and
/// freeing hundreds of MiB of tasks and flat arrays; with glibc's defaults every large
/// block comes from `mmap` and goes back on `free`, so each point faults its pages in and
/// has the kernel zero them again (a quarter of a deep-pipeline point's samples in `perf`,
/// `clear_page_erms`). Blocks up to 32 MiB now come from the heap, and the heap is neither
/// trimmed nor shrunk below 256 MiB of slack. glibc's `mallopt` is looked up at run time
/// (Swift's Glibc module does not import `malloc.h`); elsewhere this does nothing.
enum MemoryReuse {
    private typealias MallOpt = @convention(c) (Int32, Int32) -> Int32

    static func configure() {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
            let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
            // malloc.h: M_TRIM_THRESHOLD -1, M_TOP_PAD -2, M_MMAP_THRESHOLD -3.
            _ = mallopt(-3, 32 << 20)
            _ = mallopt(-1, Int32.max)
            _ = mallopt(-2, 256 << 20)
        #endif
    }
}
