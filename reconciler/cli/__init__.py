"""The command line: parsing, wiring and exit codes (`main` is the console script; `github` the
`github` commands, `adopt` the `adopt` command, `testclock` the pinned test clock)."""
