-- Run after Debian's /usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz on a fresh SQLite file.
-- start.sh substitutes the placeholders before running it:
--   @PRIVATE_KEY_JSON@ / @PUBLIC_KEY_JSON@  the P-256 key made by openssl for this run, as JSON
--                                           string contents (newlines as \n); never committed
--   @CLIENT_SECRET_HASH@                    "bench-secret" in the format glewlwyd 2.7's client database
--                                           module writes on SQLite:
--                                             base64(PBKDF2-HMAC-SHA256(secret, salt, N, 32 bytes) || salt) + "," + N
--                                           with a 16-character salt. The check takes N from the suffix
--                                           (no suffix means the legacy 1000 iterations).
--   @PBKDF2_ITERATIONS@                     N; also stored as the module's "pbkdf2-iterations", which
--                                           applies to secrets written later through the admin API
--                                           (glewlwyd's default: 150000)

-- The OIDC plugin: JWT access tokens signed with ES256, client_credentials, RFC 7662 introspection
-- by the client that holds the token (HTTP Basic with its client_id / secret).
INSERT INTO g_plugin_module_instance (gpmi_module, gpmi_name, gpmi_display_name, gpmi_parameters, gpmi_enabled)
VALUES ('oidc', 'oidc', 'OpenID Connect', '{
  "iss": "http://127.0.0.1:4593",
  "jwt-type": "ecdsa",
  "jwt-key-size": "256",
  "key": "@PRIVATE_KEY_JSON@",
  "cert": "@PUBLIC_KEY_JSON@",
  "access-token-duration": 3600,
  "refresh-token-duration": 1209600,
  "code-duration": 600,
  "refresh-token-rolling": true,
  "allow-non-oidc": true,
  "auth-type-code-enabled": true,
  "auth-type-token-enabled": false,
  "auth-type-implicit-enabled": false,
  "auth-type-none-enabled": false,
  "auth-type-password-enabled": false,
  "auth-type-client-enabled": true,
  "auth-type-device-enabled": false,
  "auth-type-refresh-enabled": true,
  "introspection-revocation-allowed": true,
  "introspection-revocation-auth-scope": [],
  "introspection-revocation-allow-target-client": true,
  "subject-type": "public",
  "scope": [],
  "claims": []
}', 1);

-- The scope the client asks for; no user password involved (client_credentials).
INSERT INTO g_scope (gs_name, gs_display_name, gs_description, gs_password_required, gs_password_max_age)
VALUES ('bench', 'bench', 'benchmark scope', 0, 0);

-- The confidential client, in the client database module's tables (same connection as glewlwyd).
INSERT INTO g_client (gc_client_id, gc_name, gc_description, gc_confidential, gc_password, gc_enabled)
VALUES ('bench-client', 'bench client', 'make bench', 1, '@CLIENT_SECRET_HASH@', 1);
INSERT INTO g_client_scope (gcs_name) VALUES ('bench');
INSERT INTO g_client_scope_client (gc_id, gcs_id)
VALUES ((SELECT gc_id FROM g_client WHERE gc_client_id = 'bench-client'), (SELECT gcs_id FROM g_client_scope WHERE gcs_name = 'bench'));
INSERT INTO g_client_property (gc_id, gcp_name, gcp_value)
VALUES ((SELECT gc_id FROM g_client WHERE gc_client_id = 'bench-client'), 'authorization_type', 'client_credentials');
INSERT INTO g_client_property (gc_id, gcp_name, gcp_value)
VALUES ((SELECT gc_id FROM g_client WHERE gc_client_id = 'bench-client'), 'token_endpoint_auth_method', 'client_secret_basic');
INSERT INTO g_client_property (gc_id, gcp_name, gcp_value)
VALUES ((SELECT gc_id FROM g_client WHERE gc_client_id = 'bench-client'), 'token_endpoint_auth_method', 'client_secret_post');

-- The iteration count the client module uses for secrets it writes (the admin API).
UPDATE g_client_module_instance
SET gcmi_parameters = json_set(gcmi_parameters, '$."pbkdf2-iterations"', @PBKDF2_ITERATIONS@)
WHERE gcmi_name = 'database';
