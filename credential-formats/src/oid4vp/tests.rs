//! Tests of the OpenID4VP messages.
