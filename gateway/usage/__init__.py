"""The platform's use (第十条(四)): who signs in and works on it, per org unit and division, and the treasury's
monthly circular built from it."""
