"""The command line: parsing, wiring and exit codes (`main` is the console script and the root
group; `options` and `wiring` what the commands share; `commands_plan`, `commands_apply`,
`commands_manifest`, `github` and `adopt` the commands; `testclock` the pinned test clock).
The logic the commands call is in the other packages: the `apply --wait` driver and signal
handling in `reconciler.engine`, the progress views in `reconciler.render.progress`."""
