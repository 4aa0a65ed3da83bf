"""`flask measures ...`: export and import the measure plan."""
from flask.cli import AppGroup

measures_cli = AppGroup("measures", help="Maßnahmenplan exportieren und importieren.")
