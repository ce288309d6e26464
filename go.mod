module vrlab

go 1.26.8

require (
	github.com/anishathalye/porcupine v1.3.1
	github.com/fatih/color v1.19.0
	github.com/stretchr/testify v1.11.1
	golang.org/x/sync v0.25.0
	golang.org/x/term v0.48.0
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
