import Glibc
import RTTYSystem
import Testing

/// Files.list reads each entry readdir returns. An entry is only d_reclen bytes long; the
/// old code copied the declared 256-byte d_name and crashed when the entry was the last in
/// readdir's buffer and the page after it unmapped.
@Suite struct DirectoryEntryTests {
    /// An entry for "1355" as the last bytes of a mapped page, the next page inaccessible:
    /// reading one byte more than the entry faults (the test process crashes, failing it).
    @Test func anEntryAtTheEndOfAPageIsReadWithoutTouchingTheNext() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let base = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        #expect(base != MAP_FAILED)
        defer { munmap(base, 2 * page) }
        #expect(mprotect(base + page, page, PROT_NONE) == 0)
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        let name = Array("1355".utf8) + [0]
        let length = (offset + name.count + 7) & ~7  // what the kernel hands out: 24 bytes
        let entry = base + page - length
        memset(entry, 0, length)
        entry.storeBytes(of: UInt16(length), toByteOffset: MemoryLayout<dirent>.offset(of: \dirent.d_reclen)!, as: UInt16.self)
        name.withUnsafeBytes { (entry + offset).copyMemory(from: $0.baseAddress!, byteCount: name.count) }
        #expect(Files.entryName(entry.assumingMemoryBound(to: dirent.self)) == "1355")
    }

    /// A directory of 2,000 short names (more than one readdir buffer) lists whole and sorted.
    @Test func aDirectoryLargerThanOneReadBufferListsWhole() throws {
        var template = Array("/tmp/rtty-entries-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!).map { String(cString: $0) } }
        let dir = try #require(made)
        defer {
            for name in (try? Files.list(dir)) ?? [] { unlink(dir + "/" + name) }
            rmdir(dir)
        }
        let names = (1000..<3000).map(String.init)
        for name in names { close(open(dir + "/" + name, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)) }
        #expect(try Files.list(dir) == names.sorted())
    }
}
