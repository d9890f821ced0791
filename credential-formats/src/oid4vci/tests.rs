//! Tests of the OpenID4VCI messages against the specification examples.
