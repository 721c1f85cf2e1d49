"""Configuration templates, the effective configuration of a device, pushes and executed
tasks (spec chapter 4, "Managing Configuration")."""
