//! JWE compact serialization with ECDH-ES (direct key agreement) and A128GCM / A256GCM.
