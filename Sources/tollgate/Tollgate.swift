import ArgumentParser


struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "A self-hosted AI gateway: serve, govern and record LLM endpoints.",
        subcommands: [
            Serve.self, Validate.self, Simulate.self, Traces.self, Pipeline.self, Sql.self, ProbeCommand.self, Import.self,
            Apply.self, Deploy.self, Versions.self, Rollback.self, Retire.self, Cost.self, Keys.self, Store.self,
        ]
    )
}
