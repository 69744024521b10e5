-- Secrets the server holds (its decision-signing key; webhook keys later), each encrypted under
-- the master key the server starts with ($SLUICE_SERVER_KEY or --key-file): XChaCha20-Poly1305,
-- a random 24-byte nonce, the name as associated data. Written once, insert-if-absent, so
-- replicas starting together end with the same secret.
CREATE TABLE server_secrets (
    name       TEXT   PRIMARY KEY,
    nonce      BYTEA  NOT NULL,
    ciphertext BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);
