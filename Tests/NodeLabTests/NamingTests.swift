import Testing
import NodeLab

extension NodeLabTests {
    @Suite struct Naming {
        @Test func interfaceNamesFitIFNAMSIZEvenForTheLargestPid() {
            let labID = LabNaming.labID(ownerPID: 4_194_304, index: 36 * 36 - 1)
            #expect(LabNaming.bridgeName(labID: labID).count <= 15)
            #expect(LabNaming.hostVethName(labID: labID, podIndex: 252).count <= 15)
        }

        @Test func everyResourceNameRoundTripsToItsOwnerPid() {
            for pid: Int32 in [1, 42, 99_999, 4_194_304] {
                let labID = LabNaming.labID(ownerPID: pid, index: 11)
                for name in [labID, LabNaming.bridgeName(labID: labID),
                             LabNaming.hostVethName(labID: labID, podIndex: 7),
                             LabNaming.netnsName(labID: labID, podIndex: 3, podName: "front-end")] {
                    #expect(LabNaming.ownerPID(of: name) == pid, "\(name)")
                }
            }
        }

        @Test func foreignNamesAreNeverClaimed() {
            for name in ["eth0", "nlab", "nlabfoo", "nlab-bar", "nlabx-", "nlab12-3", "nlab12-03xyz",
                         "nlab12-03v", "nlab12-03-", "nlabtoolong-03", "docker0", "nlab1Z-03"] {
                #expect(LabNaming.ownerPID(of: name) == nil, "\(name)")
            }
        }
    }
}
