public import Logging
import PortcullisCore
public import ServiceLifecycle

/// The server's background work: policy hot reload, decision-log flushing, the janitor and, with
/// keys in the database, following their changes.
///
/// Runs beside the HTTP server in the same service group and stops at graceful shutdown.
public struct BackgroundTasks: Service {
    let services: PortcullisServices
    let logger: Logger

    /// Background tasks over `services`.
    public init(services: PortcullisServices, logger: Logger) {
        self.services = services
        self.logger = logger
    }

    public func run() async throws {
        let policies = services.policies
        let decisionLog = services.decisionLog
        let metrics = services.metrics
        let logger = self.logger
        let clock = services.auth.clock
        let janitor = Janitor(store: services.store, configuration: services.configuration, metrics: metrics, clock: clock)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await policies.watch { outcome in
                        switch outcome {
                        case .reloaded(let version):
                            metrics.policyReload("reloaded")
                            metrics.policyInForce(version: version, loadedAt: clock())
                            logger.notice("policy reloaded", metadata: ["version": "\(version)"])
                        case .rejected(let errors):
                            metrics.policyReload("rejected")
                            logger.error("policy change rejected; the previous policy stays in force", metadata: ["errors": "\(errors.joined(separator: " | "))"])
                        case .unchanged:
                            break
                        }
                    }
                }
                group.addTask {
                    await janitor.run(
                        onSkipped: { logger.info("janitor sweep skipped: another replica holds the maintenance lock") },
                        onFailure: { error in logger.error("janitor sweep failed", metadata: ["error": "\(error)"]) })
                }
                if let decisionLog {
                    group.addTask { await decisionLog.run() }
                }
                if let storedKeys = services.storedKeys {
                    group.addTask { await storedKeys.watch { logger.warning("\($0)") } }
                }
            }
        }
    }
}
