"""The functions' sources; each func.yaml (memory, timeout) ships in the package as data for deploy."""
