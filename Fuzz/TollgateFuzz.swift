import Foundation
import TollgateCore

/// Fuzz targets for the parsers that read untrusted bytes: the JSON parser (with the request
/// walk and re-encoding), the SSE parser, the embedded-JSON / Python-literal extractor and
/// config loading. Built with `-sanitize=fuzzer` by `scripts/fuzz.sh`, each target runs under
/// libFuzzer; built plainly (as `swift build` does), the program replays a corpus folder, so the
/// committed corpus is also checked on every test run.
enum FuzzTarget: String, CaseIterable {
    case json, sse, embedded, config

    /// One input; any crash or trap is the finding.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .json:
            if let value = try? JSONValue.parse(bytes) {
                // What is parsed re-encodes to a document that parses to the same value.
                let again = try? JSONValue.parse(value.jsonText)
                precondition(again == value, "re-encoded JSON differs")
                _ = value.intValue
                _ = value.countValue
            }
            if let members = try? RequestMembers.scan(bytes, parsing: RequestRules.checkedKeys) {
                _ = try? RequestRules.check(members, needsMessages: true)
                precondition((try? JSONValue.parse(members.settingOnly("model", to: "m")))?["model"] == "m", "model not set once")
            }
        case .sse:
            var parser = ServerSentEventParser()
            let middle = bytes.count / 2
            _ = parser.feed(Array(bytes[..<middle]))
            _ = parser.feed(Array(bytes[middle...]))
            _ = parser.finish()
        case .embedded:
            let text = String(decoding: bytes, as: UTF8.self)
            _ = EmbeddedJSON.extract(from: text)
            _ = EmbeddedJSON.pythonLiteralToJSON(text)
        case .config:
            _ = try? ConfigLoader(environment: ["HOME": "/tmp"]).loadWithWarnings(yaml: String(decoding: bytes, as: UTF8.self))
            _ = try? StrictDecoding.decodeJSON(EndpointConfig.self, from: Data(bytes))
        }
    }

    static var selected: FuzzTarget {
        let name = ProcessInfo.processInfo.environment["TOLLGATE_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("set TOLLGATE_FUZZ_TARGET to one of \(allCases.map(\.rawValue))")
        }
        return target
    }
}

#if TOLLGATE_FUZZING
/// libFuzzer's driver, called from the entry point SwiftPM links executables with (its own
/// `main` then stays out of the link).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The callback libFuzzer's own `main` looks for (the toolchain links it in as well).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTarget.selected.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_cdecl("tollgate_fuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
#else
/// `tollgate-fuzz TARGET DIR…`: runs every file of the folders through the target.
@main
struct CorpusReplay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: tollgate-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) DIR…")
            throw ExitCode.usage
        }
        var count = 0
        for folder in arguments.dropFirst() {
            for file in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
                guard let data = FileManager.default.contents(atPath: folder + "/" + file) else { continue }
                target.run(Array(data))
                count += 1
            }
        }
        print("\(name): \(count) corpus inputs replayed")
    }

    enum ExitCode: Error { case usage }
}
#endif
