/// The glue every fuzz executable shares: handing libFuzzer the body (`make fuzz`, built with
/// -sanitize=fuzzer -DFUZZING) or, without FUZZING, replaying files through it.
extension FuzzTargets {
    #if FUZZING
    /// Runs `body` on the bytes libFuzzer passes to `LLVMFuzzerTestOneInput`.
    public static func run(_ body: ([UInt8]) -> Void, _ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
        body(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }

    /// Hands control to libFuzzer with `testOneInput`. SwiftPM links executables with `main`
    /// renamed to `<module>_main`, so each executable calls this from there.
    public static func runDriver(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                                 _ testOneInput: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt {
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments, testOneInput)
    }
    #endif

    /// Replays every file or directory named on the command line through `body`.
    public static func replayArguments(_ body: ([UInt8]) -> Void) throws {
        var count = 0
        for path in CommandLine.arguments.dropFirst() { count += try replay(path, body) }
        print("replayed \(count) inputs")
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                             _ body: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt
#endif
