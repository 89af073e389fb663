"""Config-driven runs that chain the stages and write a run folder."""

__all__: list[str] = []
