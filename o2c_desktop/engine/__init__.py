"""Pure business logic: no database, no network, no Qt; `today` is a parameter."""
