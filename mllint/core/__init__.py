"""The core of the semantic model every family shares: the walk, names and scopes, literal values, syntax
helpers, value origins and configuration files read as data."""
