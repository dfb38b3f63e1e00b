"""The file to hand to spark-submit: `spark-submit --master spark://host:7077 <this file> detect ...`.

spark-submit needs a Python file, not a console script; this one runs the `tocsin` command line, and
`tocsin detect` then takes its master and settings from spark-submit.
"""

from detector.cli import main

if __name__ == "__main__":
    main()
