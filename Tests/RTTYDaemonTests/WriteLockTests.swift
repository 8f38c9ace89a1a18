import RTTYCore
import Testing

@testable import RTTYDaemon

/// write_policy = "exclusive": one writer at a time, for socket and TCP sessions alike.
@Suite struct WriteLockTests {
    @Test func theFirstWriterHoldsTheLockUntilAnotherTakesIt() throws {
        let rig = try HubRig(console: #"write_policy = "exclusive""#)
        let first = try rig.client(who: "first@pts/1")
        let second = try rig.client(who: "second@pts/2")
        try second.type("refused")
        #expect(try rig.deviceInput().isEmpty)
        #expect(second.notices.last == "root@pts/1 has the write lock on pbx; ~w takes it over")
        try first.type("one")
        try second.send(.withText(.writeLock, "take"))
        #expect(first.notices.contains("root@pts/2 took over the write lock"))
        try second.type("two")
        try first.type("refused")
        #expect(try rig.deviceInput() == Array("onetwo".utf8))
        try second.send(.withText(.writeLock, "release"))
        #expect(first.notices.last == "write lock released by root@pts/2")
        try first.type("three")
        #expect(try rig.deviceInput() == Array("three".utf8))
    }

    /// A TCP session says who it is on connecting, so it takes a free lock as a socket
    /// session does on IDENTIFY; the lock frees when it leaves.
    @Test func aTCPSessionTakesAFreeLockAndLeavesItWhenItGoes() throws {
        let rig = try HubRig(console: #"write_policy = "exclusive""# + "\n" + #"tcp = "127.0.0.1:7001""#)
        let tcp = try rig.tcpClient(.raw)
        let local = try rig.client(who: "local@pts/1")
        try local.type("refused")
        #expect(local.notices.last == "tcp@127.0.0.1:40000 has the write lock on pbx; ~w takes it over")
        try tcp.type("from tcp")
        #expect(try rig.deviceInput() == Array("from tcp".utf8))
        try tcp.leave()
        #expect(local.notices.last == "tcp@127.0.0.1:40000 disconnected")
        try local.type("now mine")
        #expect(try rig.deviceInput() == Array("now mine".utf8))
    }

    @Test func aReadOnlySessionNeitherHoldsNorTakesTheLock() throws {
        let rig = try HubRig(console: #"write_policy = "exclusive""#)
        let watcher = try rig.client(who: "watcher@pts/1", hello: "rtty/1 ro")
        let writer = try rig.client(who: "writer@pts/2")
        try watcher.send(.withText(.writeLock, "take"))
        #expect(watcher.frames.last?.text == "error: read-only session")
        try writer.type("typed")
        #expect(try rig.deviceInput() == Array("typed".utf8))
    }
}
