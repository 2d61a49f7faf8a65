internal import CQRencode

/// QR codes (ISO/IEC 18004) from Debian's libqrencode, rendered as SVG.
public enum QRCode {
    /// A failure to encode (text too long for any QR version).
    public struct EncodingError: Error, Sendable {}

    /// The dark/light modules of `text` at error-correction level M, row by row.
    public static func modules(for text: String) throws -> [[Bool]] {
        guard let code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M) else { throw EncodingError() }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let data = code.pointee.data!
        return (0..<width).map { row in (0..<width).map { column in data[row * width + column] & 1 == 1 } }
    }

    /// An SVG of `text`: one path of unit squares with a four-module quiet zone, scalable without blur.
    public static func svg(for text: String, moduleSize: Int = 6) throws -> String {
        let grid = try modules(for: text)
        let quiet = 4
        let size = grid.count + 2 * quiet
        var path = ""
        for (row, cells) in grid.enumerated() {
            for (column, dark) in cells.enumerated() where dark {
                path += "M\(column + quiet) \(row + quiet)h1v1h-1z"
            }
        }
        let pixels = size * moduleSize
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(pixels)" height="\(pixels)" viewBox="0 0 \(size) \(size)" \
            shape-rendering="crispEdges" role="img" aria-label="QR code"><rect width="\(size)" height="\(size)" fill="#fff"/>\
            <path fill="#000" d="\(path)"/></svg>
            """
    }
}
