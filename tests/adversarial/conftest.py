"""Files an exporter would make to slip past the gate: each class with variants and a control."""
