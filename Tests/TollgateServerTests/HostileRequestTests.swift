import Foundation
import Testing
import TollgateCore

@Suite("Hostile requests: refused with a clear error and a row, never a crash")
struct HostileRequestTests {
    static let messages = #""messages":[{"role":"user","content":"hi"}]"#

    func expectRefused(_ gateway: LiveGateway, _ path: String, _ body: String, param: String?, code: String = "invalid_request") async throws {
        let answer = try await gateway.post(path, body: body)
        #expect(answer.status == 400, "\(path) \(body)")
        #expect(answer.json?["error"]?["code"]?.stringValue == code, "\(path) \(body)")
        if let param { #expect(answer.json?["error"]?["param"]?.stringValue == param, "\(path) \(body)") }
        let row = try #require(try await gateway.rows(for: answer.requestID).inference)
        #expect(row["status_code"] as Int? == 400)
    }

    @Test func hugeNumbersAreA400NamingTheParameterOnEveryRoute() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        for value in ["1e19", "1e300", "9223372036854775808"] {
            try await expectRefused(gateway, "/v1/chat/completions", #"{"model":"sim",\#(Self.messages),"max_tokens":\#(value)}"#, param: "max_tokens")
            try await expectRefused(gateway, "/v1/responses", #"{"model":"sim","input":"hi","max_output_tokens":\#(value)}"#, param: "max_output_tokens")
            try await expectRefused(gateway, "/serving-endpoints/sim/invocations", #"{\#(Self.messages),"max_tokens":\#(value)}"#, param: "max_tokens")
        }
        // The gateway is still serving.
        #expect(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("still there?")).status == 200)
        try await gateway.stop()
    }

    @Test func theClientCannotChooseTheUpstreamModel() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        try await expectRefused(gateway, "/v1/chat/completions", #"{"model":"sim","model":"o1-pro",\#(Self.messages)}"#, param: "model")
        try await expectRefused(gateway, "/v1/chat/completions", #"{"model":"sim","mod\u0065l":"o1-pro",\#(Self.messages)}"#, param: "model")
        try await expectRefused(gateway, "/v1/responses", #"{"model":"sim","input":"hi","model":"o1-pro"}"#, param: "model")
        // An escaped spelling routes like the plain one, and the upstream sees only the entity's model.
        let escaped = try await gateway.post("/v1/chat/completions", body: #"{"mod\u0065l":"sim",\#(Self.messages),"seed":9007199254740993}"#)
        #expect(escaped.status == 200)
        #expect(escaped.json?["model"]?.stringValue == "gpt-sim")
        try await gateway.stop()
    }

    @Test func wrongTypesAndBadMessagesAreRefusedTheSameWayEverywhere() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        try await expectRefused(gateway, "/v1/chat/completions", #"{"model":"sim",\#(Self.messages),"stream":"yes"}"#, param: "stream")
        try await expectRefused(gateway, "/v1/responses", #"{"model":"sim","input":"hi","stream":"yes"}"#, param: "stream")
        try await expectRefused(gateway, "/serving-endpoints/sim/invocations", #"{\#(Self.messages),"stream":"yes"}"#, param: "stream")
        try await expectRefused(gateway, "/v1/chat/completions", #"{"model":"sim"}"#, param: "messages")
        try await expectRefused(gateway, "/v1/chat/completions", #"{"model":"sim","messages":[]}"#, param: "messages")
        try await expectRefused(gateway, "/v1/chat/completions", #"{"model":"sim","messages":{"role":"user"}}"#, param: "messages")
        try await expectRefused(gateway, "/v1/chat/completions", #"{"model":"sim","messages":[{"role":"wizard","content":"x"}]}"#, param: "messages[0].role")
        try await expectRefused(gateway, "/serving-endpoints/sim/invocations", #"{"messages":[]}"#, param: "messages")
        try await expectRefused(gateway, "/v1/chat/completions", #"{"model":7,\#(Self.messages)}"#, param: "model")
        try await expectRefused(gateway, "/v1/chat/completions", "[1,2]", param: nil, code: "invalid_json")
        try await gateway.stop()
    }

    @Test func upstreamRateLimitHeadersReachTheClient() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        let limited = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("sim:rate_limited"))
        #expect(limited.status == 429)
        #expect(limited.headers["retry-after"] == "1")
        #expect(limited.headers["x-ratelimit-remaining-requests"] == "0")
        #expect(limited.headers["x-ratelimit-remaining-tokens"] == "0")
        try await gateway.stop()
    }

    @Test func tracesNeedTheAdminTokenAreCappedAndPaged() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator() + "\nserver: {admin_token: reader}")
        for index in 0..<5 { #expect(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("trace \(index)")).status == 200) }
        _ = try await gateway.waitForRows("SELECT trace_id FROM traces", count: 5)
        let auth = ["authorization": "Bearer reader"]
        #expect(try await gateway.post("/api/traces", body: "", method: .GET).status == 401)
        #expect(try await gateway.post("/api/traces/tr-x", body: "", method: .GET).status == 401)
        for bad in ["max_results=0", "max_results=1001", "max_results=ten", "page_token=zz", "state=MAYBE", "start_time=yesterday", "color=red"] {
            let answer = try await gateway.post("/api/traces?\(bad)", body: "", headers: auth, method: .GET)
            #expect(answer.status == 400, "\(bad)")
        }
        var seen: [String] = []
        var token: String?
        for _ in 0..<5 {
            let page = try await gateway.post("/api/traces?max_results=2" + (token.map { "&page_token=\($0)" } ?? ""), body: "", headers: auth, method: .GET)
            #expect(page.status == 200)
            seen += (page.json?["traces"]?.arrayValue ?? []).compactMap { $0["trace_id"]?.stringValue }
            token = page.json?["next_page_token"]?.stringValue
            if token == nil { break }
        }
        #expect(seen.count == 5)
        #expect(Set(seen).count == 5)
        try await gateway.stop()
    }

    @Test func adminNamesAreCheckedAndToolCommandsStayInTheConfigFile() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator() + "\nserver: {admin_token: root}")
        let auth = ["authorization": "Bearer root"]
        func create(_ name: String, entity: String = #"{"name":"a","external_model":{"provider":"sim","name":"gpt-sim"}}"#) async throws -> LiveGateway.Answer {
            try await gateway.post("/api/2.0/serving-endpoints", body: #"{"name":\#(JSONValue.quoted(name)),"config":{"served_entities":[\#(entity)]}}"#, headers: auth)
        }
        for bad in ["a/b", "has space", "", String(repeating: "x", count: 64), "dot.name", "ünï"] {
            #expect(try await create(bad).status == 400, "\(bad)")
        }
        #expect(try await create("ok_name-2").status == 200)
        let percentEncoded = try await gateway.post("/api/2.0/serving-endpoints/ok%5Fname-2", body: "", headers: auth, method: .GET)
        #expect(percentEncoded.status == 200)
        let tools = #"{"name":"t","agent":{"instructions":"x","model":"sim","tools":[{"mcp":{"command":["sh","-c","cat /etc/passwd"]}}]}}"#
        let refused = try await create("with-tools", entity: tools)
        #expect(refused.status == 403)
        #expect(refused.json?["error_code"]?.stringValue == "PERMISSION_DENIED")
        // A local model's own command is a command on the host too; its default command is not.
        let command = #"{"name":"m","local_model":{"model_path":"/x.gguf","command":["sh","-c","id"]}}"#
        #expect(try await create("with-command", entity: command).json?["error_code"]?.stringValue == "PERMISSION_DENIED")
        #expect(try await create("default-command", entity: #"{"name":"m","scale_to_zero_enabled":true,"local_model":{"model_path":"/x.gguf"}}"#).status == 200)
        try await gateway.stop()
    }

    @Test func storeFilesAreTheOwnersOnly() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        #expect(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("private")).status == 200)
        _ = try await gateway.waitForRows("SELECT request_id FROM inference_table", count: 1)
        for suffix in ["", "-wal", "-shm"] {
            let path = gateway.dbPath + suffix
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(path)")
        }
        try await gateway.stop()
    }

    @Test func oneModelCanBeRetrievedByItsID() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        let found = try await gateway.post("/v1/models/sim", body: "", method: .GET)
        #expect(found.status == 200)
        #expect(found.json?["id"] == "sim")
        #expect(found.json?["object"] == "model")
        let missing = try await gateway.post("/v1/models/nope", body: "", method: .GET)
        #expect(missing.status == 404)
        #expect(missing.json?["error"]?["code"]?.stringValue == "model_not_found")
        try await gateway.stop()
    }
}
