"""The store catalog: products, variations, import/export, outbound pushes."""
