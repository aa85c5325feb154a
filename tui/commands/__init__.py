"""One module per `impact-review` command, each exposing `register(subparsers)`."""
