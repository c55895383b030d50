"""The tracker script `/t.js`, generated from the declaration and served with caching."""
