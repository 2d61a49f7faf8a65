import Foundation

/// Entry points for the fuzz targets (`Fuzz/`): the request parsers are internal to this module.
public enum FuzzEntryPoints {
    /// Runs bytes through every request decoder: form bodies and query strings, and the JSON shapes
    /// of the REST API. Must never crash or hang, whatever the input.
    public static func decodeRequest(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let form = try? FormParameters(parsing: text) {
            _ = WebController.canonicalQuery(form)
            _ = try? OAuthController.tokenRequest(form)
        }
        let decoder = JSONDecoder()
        let data = Data(bytes)
        _ = try? decoder.decode(AuthController.LoginRequest.self, from: data)
        _ = try? decoder.decode(AuthController.RefreshRequest.self, from: data)
        _ = try? decoder.decode(AuthorizeController.AuthorizeRequest.self, from: data)
        _ = try? decoder.decode(MFAController.CodeRequest.self, from: data)
        _ = RequestLogMiddleware.acceptable(text)
    }
}
