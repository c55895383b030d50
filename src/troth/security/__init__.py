"""Console users, sign-in, sessions, API tokens and the permission each route asks for."""
