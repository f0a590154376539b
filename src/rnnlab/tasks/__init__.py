"""Task pipelines: data -> vocabulary -> model -> trainer -> saved model, one module per task."""
