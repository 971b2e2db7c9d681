"""The kubeadm test double (tests only): see docs/kubeadm-double.md."""
