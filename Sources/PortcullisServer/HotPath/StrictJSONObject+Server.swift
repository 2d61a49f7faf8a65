package import NIOCore
package import PortcullisCore
import PortcullisCrypto

extension StrictJSONObject {
    /// Reads the readable bytes of a request body in place (no copy).
    package init(parsing buffer: ByteBuffer, maximumBytes: Int = defaultMaximumBytes) throws(StrictJSONError) {
        let result = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(StrictJSONError) in try Self(parsing: bytes, maximumBytes: maximumBytes) }
        }
        self = try result.get()
    }
}

extension PortcullisError {
    /// The answer to a refused body: 413 `payload_too_large` for `tooLarge` (as the server's own
    /// body limit answers), else 400 `invalid_request` with the error's description.
    ///
    /// Throw this, not the `StrictJSONError`: `JSONErrorMiddleware` turns unknown errors into 500s.
    package init(_ error: StrictJSONError) {
        switch error {
        case .tooLarge: self = .payloadTooLarge
        default: self = .invalidRequest(error.description)
        }
    }
}
