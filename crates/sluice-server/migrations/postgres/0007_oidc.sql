-- OIDC login (docs/server.md, "Log in with OIDC"). The same statements, apart from types, as
-- migrations/sqlite/0004_oidc.sql.

-- A login in progress: written by GET /auth/oidc/start, taken (deleted) by the callback, so a
-- state is spent once whichever replica answers the callback. The state itself is not stored,
-- only its SHA-256 (like tokens); the nonce and the PKCE verifier are, for ten minutes.
CREATE TABLE oidc_logins (
    state_hash TEXT    PRIMARY KEY,
    nonce      TEXT    NOT NULL,
    verifier   TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX oidc_logins_expiry ON oidc_logins(expires_at);

-- A person at a provider linked to a local user: by the issuer and its subject only, never by
-- an email address or a name (those can be reassigned or chosen by the person).
CREATE TABLE oidc_identities (
    issuer        TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    user_id       BIGINT  NOT NULL REFERENCES users(id),
    created_at    BIGINT  NOT NULL,
    last_login_at BIGINT  NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_identities_user ON oidc_identities(user_id);
