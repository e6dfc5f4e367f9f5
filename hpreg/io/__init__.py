"""Shared I/O below every layer: YAML 1.2 and JSON reading, values files, atomic
writes, and source lines for excerpts. Knows no manager."""
