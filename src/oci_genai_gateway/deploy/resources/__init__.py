"""What deploy creates in OCI, one module per group of resources, and the stack that orders them."""
