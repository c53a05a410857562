;; Asks for more memory than a small store allows.
(module (memory 3))
