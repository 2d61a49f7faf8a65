// libFuzzer target: `make fuzz` builds it with -sanitize=fuzzer -DFUZZING. Without FUZZING it
// is a replayer: `fuzz-webauthn FILE_OR_DIR...` runs inputs through the same body.
import PortcullisFuzzTargets

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.webauthn(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ body: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// SwiftPM links executables with `main` renamed to `<module>_main`; hand control to libFuzzer from there.
@_cdecl("fuzz_webauthn_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzzerTestOneInput(data, size) }
}
#else
@main
struct Replay {
    static func main() throws {
        var count = 0
        for path in CommandLine.arguments.dropFirst() { count += try FuzzTargets.replay(path, FuzzTargets.webauthn) }
        print("replayed \(count) inputs")
    }
}
#endif
