"""`python -m darkroom.runtime.topics`: the same as `darkroom-topics`."""

from darkroom.runtime.topics.cli import main

main()
