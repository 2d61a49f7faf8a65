internal import COpenSSL

/// AES-256-GCM authenticated encryption for data at rest.
///
/// A sealed box is `nonce (12) || ciphertext || tag (16)`; the nonce is random per seal.
public enum AESGCM {
    static let nonceLength = 12
    static let tagLength = 16

    /// Encrypts and authenticates `plaintext`, binding `associatedData` (e.g. the owner's id).
    public static func seal(_ plaintext: some Collection<UInt8>, key: some Collection<UInt8>, associatedData: some Collection<UInt8>) throws -> [UInt8] {
        let keyBytes = Array(key), input = Array(plaintext), aad = Array(associatedData)
        guard keyBytes.count == 32 else { throw CryptoError.invalidKey("AES-256-GCM needs a 32-byte key") }
        let nonce = SecureRandom.bytes(nonceLength)
        guard let context = EVP_CIPHER_CTX_new() else { throw OpenSSLError.drain("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
        var ciphertext = [UInt8](repeating: 0, count: input.count + 16)
        var tag = [UInt8](repeating: 0, count: tagLength)
        var length: Int32 = 0, total = 0
        guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, keyBytes, nonce) == 1,
              aad.isEmpty || EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1
        else { throw OpenSSLError.drain("AES-GCM init") }
        if !input.isEmpty {
            guard EVP_EncryptUpdate(context, &ciphertext, &length, input, Int32(input.count)) == 1 else { throw OpenSSLError.drain("AES-GCM encrypt") }
            total = Int(length)
        }
        let finished = ciphertext.withUnsafeMutableBufferPointer { buffer in
            EVP_EncryptFinal_ex(context, buffer.baseAddress! + total, &length)
        }
        guard finished == 1, EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), &tag) == 1 else {
            throw OpenSSLError.drain("AES-GCM final")
        }
        total += Int(length)
        return nonce + ciphertext.prefix(total) + tag
    }

    /// Decrypts a sealed box; throws unless key, associated data and every byte are right.
    public static func open(_ box: some Collection<UInt8>, key: some Collection<UInt8>, associatedData: some Collection<UInt8>) throws -> [UInt8] {
        let keyBytes = Array(key), sealed = Array(box), aad = Array(associatedData)
        guard keyBytes.count == 32 else { throw CryptoError.invalidKey("AES-256-GCM needs a 32-byte key") }
        guard sealed.count >= nonceLength + tagLength else { throw CryptoError.malformed("sealed box too short") }
        let nonce = Array(sealed.prefix(nonceLength))
        var tag = Array(sealed.suffix(tagLength))
        let ciphertext = Array(sealed[nonceLength..<(sealed.count - tagLength)])
        guard let context = EVP_CIPHER_CTX_new() else { throw OpenSSLError.drain("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0, total = 0
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, keyBytes, nonce) == 1,
              aad.isEmpty || EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1
        else { throw OpenSSLError.drain("AES-GCM init") }
        if !ciphertext.isEmpty {
            guard EVP_DecryptUpdate(context, &plaintext, &length, ciphertext, Int32(ciphertext.count)) == 1 else {
                throw OpenSSLError.drain("AES-GCM decrypt")
            }
            total = Int(length)
        }
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), &tag) == 1 else {
            throw OpenSSLError.drain("AES-GCM tag")
        }
        let verified = plaintext.withUnsafeMutableBufferPointer { buffer in
            EVP_DecryptFinal_ex(context, buffer.baseAddress! + total, &length)
        }
        guard verified == 1 else {
            OpenSSLError.clear()
            throw CryptoError.malformed("sealed box failed authentication")
        }
        return Array(plaintext.prefix(total + Int(length)))
    }
}
