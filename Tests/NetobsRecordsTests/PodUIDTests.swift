import Testing
import NetobsRecords

@Suite struct PodUIDTests {
    @Test func bothCgroupDriversAndTheNodeLab() {
        #expect(PodUID.fromCgroupPath("/kubepods/burstable/pod0b6c5f7e-1d2a-4e3b-9c8d-7f6e5d4c3b2a/abc123")
                == "0b6c5f7e-1d2a-4e3b-9c8d-7f6e5d4c3b2a")
        #expect(PodUID.fromCgroupPath("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0b6c5f7e_1d2a_4e3b_9c8d_7f6e5d4c3b2a.slice/cri-containerd-ff.scope")
                == "0b6c5f7e-1d2a-4e3b-9c8d-7f6e5d4c3b2a")
        #expect(PodUID.fromCgroupPath("/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice")
                == "11111111-2222-3333-4444-555555555555")
        #expect(PodUID.fromCgroupPath("/netobs-nodelab/l1/kubepods/pod11111111-2222-3333-4444-555555555555/c1")
                == "11111111-2222-3333-4444-555555555555")
    }

    @Test func notAPod() {
        #expect(PodUID.fromCgroupPath("/system.slice/sshd.service") == nil)
        #expect(PodUID.fromCgroupPath("/kubepods/burstable") == nil)
        #expect(PodUID.fromCgroupPath("/kubepods/podnot-a-uid/c") == nil)
        #expect(PodUID.fromCgroupPath("/kubepods/pod0B6C5F7E-1D2A-4E3B-9C8D-7F6E5D4C3B2A/c") == nil)
    }
}
