//! OpenID for Verifiable Presentations 1.0 (Final) messages.
