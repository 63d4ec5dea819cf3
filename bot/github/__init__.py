"""signoff as a GitHub App: the deployment protection rule of GitHub environments (docs/github.md)."""
