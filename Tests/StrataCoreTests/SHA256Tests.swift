import Testing
@testable import StrataCore

/// Test vectors from FIPS 180-4's examples (NIST CSRC, "SHA256.pdf").
@Suite struct SHA256Tests {
    @Test func emptyMessage() {
        #expect(SHA256.hex(of: "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func oneBlock() {
        #expect(SHA256.hex(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func twoBlocks() {
        #expect(
            SHA256.hex(of: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func incrementalUpdatesMatchOneShot() {
        let text = String(repeating: "strata ", count: 100)
        var hasher = SHA256()
        for chunk in stride(from: 0, to: text.utf8.count, by: 37) {
            hasher.update(Array(Array(text.utf8)[chunk..<min(chunk + 37, text.utf8.count)]))
        }
        #expect(hasher.finalizeHex() == SHA256.hex(of: text))
    }
}

@Suite struct SpellingTests {
    @Test func suggestsOnlyPlausibleTypos() {
        #expect(Spelling.closest(to: "hiden", among: ["hidden", "heads", "layers"]) == "hidden")
        #expect(Spelling.closest(to: "zzz", among: ["hidden", "heads"]) == nil)
    }
}
