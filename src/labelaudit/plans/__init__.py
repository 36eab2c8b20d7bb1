"""Plans before data: pilot sample sizes, review sampling plans, gold allocation."""
