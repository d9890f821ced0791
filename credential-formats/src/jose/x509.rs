//! X.509 certificate chains (`x5c`) and the OpenID4VP `x509_hash` client identifier.
