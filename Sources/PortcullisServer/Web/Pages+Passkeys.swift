import Foundation
import Hummingbird
import PortcullisCore

/// What a ceremony page's data block holds: `create` or `get`, and the `publicKey` options.
private struct CeremonyDataBlock<Options: Encodable>: Encodable {
    let mode: String
    let publicKey: Options
}

extension Pages {
    /// The one script of the pages, allowed by hash in the CSP: on a click of `#webauthn-start` it
    /// reads the options from the `#webauthn-options` data block, calls
    /// `navigator.credentials.create` or `.get`, writes the credential (the Level 3 JSON encoding,
    /// binary fields base64url) into the form's `credential` field and submits the form.
    static let passkeyScript = """
        (function(){
        var b=document.getElementById("webauthn-start");if(!b)return;
        function dec(s){s=s.replace(/-/g,"+").replace(/_/g,"/");while(s.length%4)s+="=";return Uint8Array.from(atob(s),function(c){return c.charCodeAt(0)});}
        function enc(x){var a=new Uint8Array(x),s="";for(var i=0;i<a.length;i++)s+=String.fromCharCode(a[i]);return btoa(s).replace(/\\+/g,"-").replace(/\\//g,"_").replace(/=+$/,"");}
        b.addEventListener("click",function(){
        var d=JSON.parse(document.getElementById("webauthn-options").textContent),o=d.publicKey,f=document.getElementById("webauthn-form");
        o.challenge=dec(o.challenge);if(o.user)o.user.id=dec(o.user.id);
        (o.excludeCredentials||[]).concat(o.allowCredentials||[]).forEach(function(c){c.id=dec(c.id);});
        var p=d.mode==="create"?navigator.credentials.create({publicKey:o}):navigator.credentials.get({publicKey:o});
        p.then(function(c){var r=c.response,j={id:c.id,rawId:enc(c.rawId),type:c.type,authenticatorAttachment:c.authenticatorAttachment||undefined,
        clientExtensionResults:c.getClientExtensionResults(),response:{clientDataJSON:enc(r.clientDataJSON)}};
        if(r.attestationObject){j.response.attestationObject=enc(r.attestationObject);j.response.transports=r.getTransports?r.getTransports():[];}
        else{j.response.authenticatorData=enc(r.authenticatorData);j.response.signature=enc(r.signature);if(r.userHandle)j.response.userHandle=enc(r.userHandle);}
        f.elements.credential.value=JSON.stringify(j);f.submit();
        },function(e){document.getElementById("webauthn-error").textContent="The passkey was not used ("+e.name+"). You can try again.";});
        });
        })();
        """

    /// A page running one WebAuthn ceremony: `mode` `create` (registration) or `get` (sign-in),
    /// with `options` (the `publicKey` member's JSON) and a form posting the credential to `action`.
    static func passkeyCeremony(title: String, intro: String, mode: String, options: some Encodable, action: String, csrf: String,
                                carried: [(String, String)], extraFields: String = "", button: String, error: String?) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Inside <script>, "<" is the only character that could end the block: escaped as JSON allows.
        let json = String(decoding: try encoder.encode(CeremonyDataBlock(mode: mode, publicKey: options)), as: UTF8.self)
            .replacingOccurrences(of: "<", with: "\\u003c")
        return response(title: title, body: """
            <p>\(escape(intro))</p>\(alert(error))<p id="webauthn-error" aria-live="polite"></p>
            <script type="application/json" id="webauthn-options">\(json)</script>
            <form id="webauthn-form" method="post" action="\(escape(action))">
            \(hidden("csrf", csrf))\(carried.map { hidden($0.0, $0.1) }.joined())<input type="hidden" name="credential" value="">
            \(extraFields)
            <button type="button" id="webauthn-start">\(escape(button))</button>
            </form>
            <script>\(passkeyScript)</script>
            """, status: error == nil ? .ok : .unauthorized)
    }

    /// The account's passkeys: each with rename and remove (the password again) forms, and a button to add one.
    static func passkeys(_ passkeys: [Passkey], csrf: String, message: String?, error: String?) -> Response {
        let format = ISO8601DateFormatter()
        let items = passkeys.map { passkey in
            let used = passkey.lastUsedAt.map { "last used \(format.string(from: $0))" } ?? "never used"
            let flag = passkey.flaggedAt == nil ? "" : " <strong>Refused: its counter went backwards (possibly cloned). Remove it.</strong>"
            return """
                <li><strong>\(escape(passkey.name))</strong> — added \(escape(format.string(from: passkey.createdAt))), \(escape(used))\(flag)
                <form method="post" action="/account/passkeys/rename">\(hidden("csrf", csrf))\(hidden("id", passkey.id))
                <label for="name-\(escape(passkey.id))">New name</label><input id="name-\(escape(passkey.id))" name="name" maxlength="64" required>
                <button type="submit" class="secondary">Rename</button></form>
                <form method="post" action="/account/passkeys/remove">\(hidden("csrf", csrf))\(hidden("id", passkey.id))
                <label for="password-\(escape(passkey.id))">Your password, to remove it</label>
                <input id="password-\(escape(passkey.id))" name="password" type="password" autocomplete="current-password" required>
                <button type="submit" class="secondary">Remove</button></form></li>
                """
        }.joined()
        let notice = message.map { "<p role=\"status\">\(escape($0))</p>" } ?? ""
        return response(title: "Passkeys", body: """
            \(notice)\(alert(error))
            \(passkeys.isEmpty ? "<p>You have no passkey yet. A passkey signs you in without a password and cannot be phished.</p>" : "<ul class=\"scopes\">\(items)</ul>")
            <form id="add-passkey" method="post" action="/account/passkeys/new">\(hidden("csrf", csrf))
            <button type="submit">Add a passkey</button></form>
            """, status: error == nil ? .ok : .badRequest)
    }
}
