"""Pure, Django-free pieces shared by every app's science: input checking and the model catalogue."""
