import Foundation

/// Upper-tail test for counts (retransmits, drops, errors, DNS failures): how unlikely is a
/// count of at least `x` for a Poisson rate `lambda`?
public enum PoissonTest {
    /// ln P(X ≥ x), X ~ Poisson(λ); 0 when x ≤ λ.
    public static func logUpperTail(_ x: Double, lambda: Double) -> Double {
        let k = x.rounded(.down)
        guard k > lambda, lambda > 0 else { return k <= 0 || lambda > 0 ? 0 : -.infinity }
        // The first term, times a geometric bound of the rest (ratio λ/(k+1) < 1).
        let logTerm = k * log(lambda) - lambda - lgamma(k + 1)
        let ratio = lambda / (k + 1)
        return min(0, logTerm - log(1 - ratio))
    }
}
