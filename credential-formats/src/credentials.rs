//! Our credential types: `vct` values and claim schemas.
