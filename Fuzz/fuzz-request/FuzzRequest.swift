// libFuzzer target: `make fuzz` builds it with -sanitize=fuzzer -DFUZZING. Without FUZZING it
// is a replayer: `fuzz-request FILE_OR_DIR...` runs inputs through the same body.
import PortcullisFuzzTargets

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.run(FuzzTargets.request, data, size)
}

@_cdecl("fuzz_request_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzTargets.runDriver(argc, argv, fuzzerTestOneInput)
}
#else
@main
struct Replay {
    static func main() throws { try FuzzTargets.replayArguments(FuzzTargets.request) }
}
#endif
